{#-
    The column holds exact money: its type is DECIMAL(18,2) (never DOUBLE, never a wider
    decimal). Fails with one row when the type is wrong.
-#}
{% test is_money(model, column_name) %}
    select
        typeof({{ column_name }}) as column_type
    from {{ model }}
    where typeof({{ column_name }}) <> 'DECIMAL(18,2)'
    limit 1
{% endtest %}
