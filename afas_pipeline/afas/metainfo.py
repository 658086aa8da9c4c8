"""The metainfo endpoints: which connectors a token may use and what their fields are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from afas_pipeline.afas.errors import AfasResponseError, AfasSchemaError

# AFAS's dataTypes (afas-api.md §4), plus "datetime": AFAS reports datetimes as "date", so a
# field is a datetime by meaning (the connector contract, or its values), never by metainfo;
# an old simulator answered "datetime", and that answer is still read.
_POLARS_TYPES: dict[str, Any] = {
    "int": pl.Int64,
    "string": pl.String,
    "blob": pl.String,
    "date": pl.Date,
    # Naive: AFAS datetimes are Amsterdam wall-clock time with a meaningless "Z".
    "datetime": pl.Datetime("us"),
    "boolean": pl.Boolean,
}
DECIMAL_PRECISION = 18
DEFAULT_DECIMALS = 2


def _require(data: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise AfasResponseError(f"{what} has no {key!r}")
    return data[key]


@dataclass(frozen=True)
class ConnectorList:
    """`GET /metainfo`: the connectors this token may use, and environment info."""

    get_connectors: tuple[tuple[str, str], ...]
    update_connectors: tuple[tuple[str, str], ...]
    info: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectorList:
        def pairs(key: str) -> tuple[tuple[str, str], ...]:
            items = data.get(key) or []
            return tuple((str(i["id"]), str(i.get("description", ""))) for i in items)

        if not isinstance(data, Mapping):
            raise AfasResponseError("metainfo is not a JSON object")
        return cls(pairs("getConnectors"), pairs("updateConnectors"), dict(data.get("info") or {}))

    @property
    def env_id(self) -> str | None:
        value = self.info.get("envid")
        return None if value is None else str(value)

    @property
    def get_connector_ids(self) -> tuple[str, ...]:
        return tuple(i for i, _ in self.get_connectors)


@dataclass(frozen=True)
class FieldMeta:
    """One field of a GetConnector: `id` is the JSON key in rows."""

    id: str
    field_id: str
    data_type: str
    label: str
    length: int = 0
    decimals: int = 0
    control_type: int | None = None
    # What a "date" field holds, where the caller knows it ("date" or "datetime", from the
    # connector contract); None: the values decide, page by page (see `frames.py`).
    meaning: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldMeta:
        return cls(
            id=str(_require(data, "id", "metainfo field")),
            field_id=str(data.get("fieldId") or ""),
            data_type=str(_require(data, "dataType", "metainfo field")),
            label=str(data.get("label") or ""),
            length=int(data.get("length") or 0),
            decimals=int(data.get("decimals") or 0),
            control_type=None if data.get("controlType") is None else int(data["controlType"]),
        )

    @property
    def value_type(self) -> str:
        """The type the values are checked and parsed as: metainfo's, except that a "date"
        field known to hold datetimes is a datetime."""
        if self.data_type == "date" and self.meaning == "datetime":
            return "datetime"
        return self.data_type

    @property
    def values_decide(self) -> bool:
        """A "date" field nobody described: its values tell a date from a datetime."""
        return self.data_type == "date" and self.meaning is None

    @property
    def scale(self) -> int:
        """Decimal places of a decimal field (AFAS may report 0 meaning 'not set': then 2)."""
        return self.decimals or DEFAULT_DECIMALS

    def polars_type(self, connector: str = "") -> Any:
        if self.data_type == "decimal":
            return pl.Decimal(DECIMAL_PRECISION, self.scale)
        try:
            return _POLARS_TYPES[self.value_type]
        except KeyError:
            raise AfasSchemaError(
                f"field {self.id!r} has unknown AFAS dataType {self.data_type!r}",
                connector_id=connector or None,
                field=self.id,
                value=self.data_type,
            ) from None


@dataclass(frozen=True)
class GetConnectorMeta:
    """`GET /metainfo/get/{id}`: a GetConnector's fields, in row order."""

    name: str
    description: str
    fields: tuple[FieldMeta, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GetConnectorMeta:
        fields = _require(data, "fields", "GetConnector metainfo")
        if not isinstance(fields, list):
            raise AfasResponseError("GetConnector metainfo 'fields' is not a list")
        return cls(
            name=str(data.get("name") or ""),
            description=str(data.get("description") or ""),
            fields=tuple(FieldMeta.from_json(f) for f in fields),
        )

    @property
    def field_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)

    def field(self, field_id: str) -> FieldMeta:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"GetConnector {self.name!r} has no field {field_id!r}")

    def polars_schema(self) -> pl.Schema:
        """The polars type of every field, in order; unknown dataTypes raise AfasSchemaError.

        A "date" field whose values decide is a Date here; a page whose values carry a time
        has it as a Datetime.
        """
        return pl.Schema([(f.id, f.polars_type(self.name)) for f in self.fields])

    def with_meanings(self, meanings: Mapping[str, str]) -> GetConnectorMeta:
        """This metainfo with the caller's knowledge of what its "date" fields hold
        (field id -> "date" or "datetime"); other fields and unknown ids are left as they are."""
        fields = tuple(
            replace(f, meaning=meanings[f.id])
            if f.data_type == "date" and meanings.get(f.id) in ("date", "datetime")
            else f
            for f in self.fields
        )
        return replace(self, fields=fields)


@dataclass(frozen=True)
class UpdateFieldMeta:
    """One field of an UpdateConnector object."""

    field_id: str
    primary_key: bool
    data_type: str
    label: str
    mandatory: bool
    length: int
    decimals: int
    notzero: bool
    control_type: int | None
    values: tuple[tuple[str, str], ...] | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UpdateFieldMeta:
        values = data.get("values")
        return cls(
            field_id=str(_require(data, "fieldId", "UpdateConnector field")),
            primary_key=bool(data.get("primaryKey", False)),
            data_type=str(data.get("dataType") or ""),
            label=str(data.get("label") or ""),
            mandatory=bool(data.get("mandatory", False)),
            length=int(data.get("length") or 0),
            decimals=int(data.get("decimals") or 0),
            notzero=bool(data.get("notzero", False)),
            control_type=None if data.get("controlType") is None else int(data["controlType"]),
            values=None
            if values is None
            else tuple((str(v.get("id")), str(v.get("description", ""))) for v in values),
        )


@dataclass(frozen=True)
class UpdateConnectorMeta:
    """`GET /metainfo/update/{id}`: a recursive tree of objects and their fields."""

    name: str
    description: str
    fields: tuple[UpdateFieldMeta, ...]
    objects: tuple[UpdateConnectorMeta, ...]
    id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UpdateConnectorMeta:
        if not isinstance(data, Mapping):
            raise AfasResponseError("UpdateConnector metainfo is not a JSON object")
        return cls(
            name=str(data.get("name") or data.get("id") or ""),
            description=str(data.get("description") or ""),
            fields=tuple(UpdateFieldMeta.from_json(f) for f in data.get("fields") or []),
            objects=tuple(cls.from_json(o) for o in data.get("objects") or []),
            id=None if data.get("id") is None else str(data["id"]),
        )

    def find(self, name: str) -> UpdateConnectorMeta | None:
        """The object called `name` anywhere in this tree."""
        if self.name == name:
            return self
        for child in self.objects:
            found = child.find(name)
            if found is not None:
                return found
        return None
