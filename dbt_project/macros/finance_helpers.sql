{#- Small helpers shared by the intermediate and mart models. -#}

{#- An exact money value: DECIMAL(18,2). Sums and window sums in DuckDB widen to DECIMAL(38,2);
    every amount a mart exposes goes through this cast so the analysts' contract stays fixed. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{#- A SQL list of string literals from a list variable, e.g. ('2999', '2998'). -#}
{% macro sql_string_list(values) -%}
    ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- The deterministic id of a correction: 'COR-' and 20 hex characters of the md5 of its type
    and the keys of the finding it corrects. It becomes the FiEntries BpNr (VoucherNo), so it
    must be stable across rebuilds and at most 32 characters long. -#}
{% macro correction_id(correction_type, key_expressions) -%}
    '{{ var("correction_voucher_prefix") }}' || upper(left(md5(
        '{{ correction_type }}'
        {%- for k in key_expressions %} || '|' || cast({{ k }} as varchar){% endfor %}
    ), 20))
{%- endmacro %}

{#- Whether a voucher number belongs to a correction posted by this pipeline. -#}
{% macro is_correction_voucher(column) -%}
    coalesce(starts_with({{ column }}, '{{ var("correction_voucher_prefix") }}'), false)
{%- endmacro %}

{#- The VAT return period (aangiftetijdvak) an AFAS period falls in, by var vat_return_period:
    'quarter' (periods 1-3 are return period 1, ...) or 'month' (the period itself). -#}
{% macro vat_return_period(period) -%}
    {%- set kind = var('vat_return_period') -%}
    {%- if kind == 'quarter' -%}
        (({{ period }} - 1) // 3 + 1)
    {%- elif kind == 'month' -%}
        ({{ period }})
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var vat_return_period must be 'quarter' or 'month', not '" ~ kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}
