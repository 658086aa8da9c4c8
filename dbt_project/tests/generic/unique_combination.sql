{#-
    The combination of `columns` is unique in the model (dbt_utils.unique_combination_of_columns,
    written here because packages cannot be installed offline). Fails with one row per
    duplicated combination.
-#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    group by all
    having count(*) > 1
{% endtest %}
