{#-
    None of `columns` holds a null: one scan of the model for all of them, where dbt's not_null
    is a test per column (each its own node, query and Dagster check; per column they were
    over half of a build's tests and of their time). Fails with a row per column that holds
    nulls, with how many.
-#}
{% test not_null_columns(model, columns) %}
    with nulls as (
        select
            {%- for column in columns %}
            count(*) filter (where {{ column }} is null) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    select column_name, null_rows
    from (unpivot nulls on columns(*) into name column_name value null_rows)
    where null_rows > 0
{% endtest %}
