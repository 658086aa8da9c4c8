from tests.conftest import HISTORY_START, NOW, Pipeline


def test_loaded_pipeline_has_journal_lines(loaded_pipeline: Pipeline) -> None:
    days = list(
        (loaded_pipeline.data_dir / "raw" / "DWH_Financiele_mutaties" / "days").glob("day=*")
    )
    assert days
    assert HISTORY_START <= NOW.date()
