{#-
    The newest loaded version of every key of a change-tracked connector, flagged when AFAS
    deleted it. A record changed on day 1 and again on day 5 has a version in both partitions
    (and maybe in the displaced history); the newest Mutatie_datum wins, then the newest load.
-#}
{% macro afas_newest_versions(connector, key, modified='Mutatie_datum') %}
    with newest as (
        select *
        from {{ source('afas_versions', connector) }}
        qualify row_number() over (
            partition by {{ key | join(', ') }}
            order by {{ modified }} desc, _loaded_at desc
        ) = 1
    )

    select
        newest.*,
        {{ afas_deleted_seen_at(connector, key, 'newest') }} as _deleted_seen_at
    from newest
{% endmacro %}

{#-
    When AFAS was first seen without the version `row` holds (its key columns `row_key`, in the
    order of the connector's `key`; loaded at `row`.`loaded_at`), null while it is live. A
    deletion counts only when it was seen after that version was loaded, so a record that
    reappears later is live again.
-#}
{% macro afas_deleted_seen_at(connector, key, row, row_key=none, loaded_at='_loaded_at') %}
    (
        select min(deletions._deleted_seen_at)
        from {{ source('afas_deleted', connector) }} as deletions
        where
            {% for k in key -%}
            deletions.{{ k }} = {{ row }}.{{ (row_key or key)[loop.index0] }} and
            {% endfor -%}
            deletions._deleted_seen_at >= {{ row }}.{{ loaded_at }}
    )
{% endmacro %}
