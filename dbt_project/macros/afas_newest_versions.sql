{#-
    The newest loaded version of every key of a change-tracked connector, flagged when AFAS
    deleted it. A record changed on day 1 and again on day 5 has a version in both partitions
    (and maybe in the displaced history); the newest Mutatie_datum wins, then the newest load.
    A deletion counts only when it was seen after that version was loaded, so a record that
    reappears later is live again.
-#}
{% macro afas_newest_versions(connector, key, modified='Mutatie_datum') %}
    with newest as (
        select *
        from {{ source('afas_versions', connector) }}
        qualify row_number() over (
            partition by {{ key | join(', ') }}
            order by {{ modified }} desc, _loaded_at desc
        ) = 1
    ),

    deletions as (
        select {{ key | join(', ') }}, _deleted_seen_at
        from {{ source('afas_deleted', connector) }}
    )

    select
        newest.*,
        (
            select min(deletions._deleted_seen_at)
            from deletions
            where
                {% for k in key -%}
                deletions.{{ k }} = newest.{{ k }} and
                {% endfor -%}
                deletions._deleted_seen_at >= newest._loaded_at
        ) as _deleted_seen_at
    from newest
{% endmacro %}
