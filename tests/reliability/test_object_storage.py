"""The raw layer in S3-compatible object storage (a real SeaweedFS server from pip): the same
marts as the local raw layer, no object ever overwritten, readers that see a whole manifest,
and a second writer refused instead of corrupting it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from afas_pipeline.extract.objectstore import ENDPOINT_VARIABLE, ObjectStoreSettings
from afas_pipeline.extract.storage import RawLayerConflict, RawStore
from afas_pipeline.runner import failures, run_range
from afas_pipeline.settings import RAW_URL_VARIABLE, PipelineSettings
from afas_pipeline.simulator.fientries import FiEntryRejected
from afas_pipeline.usage import RunRequestError
from tests.conftest import NOW, Simulator, pipeline_env
from tests.extract.support import without_load_columns
from tests.reliability.conftest import marts_state
from tests.servers import S3_KEYS, S3_SECRET, S3Server, running_s3_server

BUCKET = "afas-raw"
LINES = "DWH_Financiele_mutaties"
HISTORY_DAYS = 45  # a short history keeps the test short; the layout is the same
FIRST_DAY = NOW.date() - timedelta(days=HISTORY_DAYS + 1)  # the whole history is loaded


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`weed server -s3` on free loopback ports, with one bucket; stopped for sure."""
    with running_s3_server(tmp_path_factory.mktemp("seaweedfs"), BUCKET) as server:
        yield server


def test_the_raw_layer_in_object_storage_builds_the_marts_of_the_local_one(
    s3_server: S3Server,
    start_simulator: Callable[..., Simulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulator = start_simulator(journal_lines=2_000, history_days=HISTORY_DAYS)
    url = f"s3://{BUCKET}/pipeline-test"
    local, remote = tmp_path / "local", tmp_path / "remote"
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)

    def run(data_dir: Path, raw_url: str, end: date, job: str) -> None:
        for name, value in {**pipeline_env(simulator, data_dir), RAW_URL_VARIABLE: raw_url}.items():
            monkeypatch.setenv(name, value)
        with dg.DagsterInstance.ephemeral() as instance:
            result = run_range(FIRST_DAY, end, instance=instance, job_name=job)
            assert result.success, failures(result)
            logged = "\n".join(str(e) for e in instance.all_logs(result.run_id))
        assert S3_SECRET not in logged

    for data_dir, raw_url in ((local, ""), (remote, url)):
        run(data_dir, raw_url, NOW.date(), "afas_extract_job")
    before = _objects(s3_server)
    # A day of new entries, and an entry of the loaded range deleted: the re-read of its day
    # displaces its lines and the deletion check flags them.
    assert simulator.environment.advance(days=1)["entries_added"]
    _delete_an_entry(simulator, since=FIRST_DAY)
    for data_dir, raw_url in ((local, ""), (remote, url)):
        run(data_dir, raw_url, NOW.date() + timedelta(days=1), "afas_daily_job")

    assert marts_state(remote) == marts_state(local)
    assert not (remote / "raw").exists()  # the raw layer is in the bucket alone
    after = _objects(s3_server)
    assert {key: after.get(key) for key in before} == before  # nothing overwritten or removed
    stores = RawStore(local), RawStore(remote, url)
    for kind in ("days", "displaced", "deleted"):
        local_rows, remote_rows = (_rows(store, kind) for store in stores)
        assert remote_rows.height, kind  # the re-read displaced rows and flagged deletions
        assert remote_rows.equals(local_rows), kind
    secret = S3_SECRET.encode()
    assert not [p for p in remote.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_a_reader_sees_a_whole_manifest_and_a_second_writer_is_refused(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    url = f"s3://{BUCKET}/manifest-test"
    writer, reader = RawStore(tmp_path, url), RawStore(tmp_path, url)
    days = [f"C/days/day=2025-01-0{n}.parquet" for n in (1, 2, 3)]
    with writer.files.batch() as batch:
        for n, name in enumerate(days):
            batch.write(pl.DataFrame({"day": [n], "version": [1]}), name)
    assert _versions(reader) == [1, 1, 1]
    first = {f"s3://{key}" for key in _objects(s3_server) if key.startswith(url[5:])}

    seen_while_publishing: list[list[int]] = []
    publish = writer.files.publish  # type: ignore[attr-defined]

    def publish_watched(top: str, manifest: object) -> None:
        seen_while_publishing.append(_versions(reader))  # every new object is written by now
        publish(top, manifest)
        seen_while_publishing.append(_versions(reader))

    monkeypatch.setattr(writer.files, "publish", publish_watched)
    with writer.files.batch() as batch:
        for n, name in enumerate(days):
            batch.write(pl.DataFrame({"day": [n], "version": [2]}), name)
    assert seen_while_publishing == [[1, 1, 1], [2, 2, 2]]  # the old manifest, then the new
    # What the first batch wrote (its days and its manifest) is superseded, and kept.
    assert set(writer.files.superseded()) == first  # type: ignore[attr-defined]

    # Two writers that started from the same manifest: the second to publish is refused, its
    # objects are gone, and the first one's manifest stands.
    monkeypatch.undo()
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    other = RawStore(tmp_path, url)
    objects = _objects(s3_server)
    late = writer.files.batch()
    late.write(pl.DataFrame({"day": [0], "version": [3]}), days[0])
    with other.files.batch() as early:
        early.write(pl.DataFrame({"day": [0], "version": [4]}), days[0])
    with pytest.raises(RawLayerConflict, match="another writer published manifest"):
        late.__exit__(None)
    assert _versions(reader) == [4, 2, 2]
    added = set(_objects(s3_server)) - set(objects)
    assert len(added) == 2  # the early writer's day and manifest; the late one left nothing


def _delete_an_entry(simulator: Simulator, *, since: date) -> None:
    """Delete the first entry changed `since` that AFAS lets delete (an unmatched memorial or
    invoice entry in an open period)."""
    lines = simulator.environment.rows(LINES).filter(pl.col("Mutatie_datum").dt.date() >= since)
    for entry in lines.select("UnitId", "JournalId", "EntryNo").unique().sort(pl.all()).rows():
        try:
            simulator.environment.delete_fi_entry(*entry)
            return
        except FiEntryRejected:
            continue
    raise AssertionError(f"no entry since {since} can be deleted")


def _versions(store: RawStore) -> list[int]:
    return store.read(store.day_files("C")).sort("day")["version"].to_list()


def _objects(server: S3Server) -> dict[str, str]:
    """Every object in the bucket and its ETag."""
    found = server.filesystem().find(BUCKET, detail=True)
    return {key: info["ETag"] for key, info in found.items() if info["type"] == "file"}


def _rows(store: RawStore, kind: str) -> pl.DataFrame:
    files = store.day_files(LINES) if kind == "days" else store.history_files(LINES, kind)
    frame = without_load_columns(store.read(files))
    frame = frame.drop([c for c in frame.columns if c.startswith("_deleted")])
    return frame.sort(frame.columns)


def test_the_raw_url_is_a_bucket_or_nothing_and_the_secret_stays_out_of_sight() -> None:
    assert PipelineSettings.from_env({RAW_URL_VARIABLE: "s3://bucket/env-1/"}).raw_url == (
        "s3://bucket/env-1"
    )
    assert PipelineSettings.from_env({}).raw_url == ""  # <data dir>/raw
    for wrong in ("/mnt/raw", "s3://", "gs://bucket/x"):
        with pytest.raises(RunRequestError, match=f"{RAW_URL_VARIABLE} must be s3://bucket"):
            PipelineSettings.from_env({RAW_URL_VARIABLE: wrong})
    env = {"AWS_ENDPOINT_URL": "http://aws-style", ENDPOINT_VARIABLE: "http://ours", **S3_KEYS}
    settings = ObjectStoreSettings.from_env(env)
    assert settings.endpoint_url == "http://ours"  # the pipeline's own variable first
    assert S3_SECRET not in repr(settings)
    assert ObjectStoreSettings.from_env({"AWS_ENDPOINT_URL": "http://x"}).endpoint_url == "http://x"
