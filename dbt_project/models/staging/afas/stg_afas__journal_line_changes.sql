-- The journal lines an incremental build redoes: every key with something new in the raw layer
-- since the last complete build began (the var changed_since, passed by the pipeline): a
-- version loaded (a new day, a late edit, a re-read or a full reconciliation that healed it),
-- a deletion flag set, or one taken back (cleared/). Moving a version from days/ to
-- displaced/ changes no key's newest version, and an unchanged re-read keeps its file and
-- _loaded_at, so nothing else needs redoing. The extraction holds the raw layer's write lock
-- while it stamps and writes, and a build holds it shared, so nothing written after a build
-- began is stamped before it. Each filter reads only the row groups whose statistics reach
-- changed_since. Empty without changed_since (a full build reads everything anyway).
-- Keys typed as staging types them, so every incremental model matches them as they are.
{{ config(materialized='table') }}

{%- set since = var('changed_since', none) %}
{%- set key = 'UnitId, EntryNo, SeqNo' %}

{%- set typed = 'cast(UnitId as integer) as administration_id, '
    ~ 'cast(EntryNo as bigint) as entry_no, cast(SeqNo as integer) as seq_no' %}

{% if since -%}
select distinct {{ typed }}
from (
    select {{ key }}
    from {{ source('afas_versions', 'DWH_Financiele_mutaties') }}
    where _loaded_at >= cast('{{ since }}' as timestamptz)
    union all
    select {{ key }}
    from {{ source('afas_deleted', 'DWH_Financiele_mutaties') }}
    where _deleted_seen_at >= cast('{{ since }}' as timestamptz)
    union all
    select {{ key }}
    from {{ source('afas_cleared', 'DWH_Financiele_mutaties') }}
    where _cleared_at >= cast('{{ since }}' as timestamptz)
)
{%- else -%}
select {{ typed }}
from {{ source('afas_versions', 'DWH_Financiele_mutaties') }}
where false
{%- endif %}
