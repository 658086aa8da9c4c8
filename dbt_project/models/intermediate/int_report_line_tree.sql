-- Every statement line with each line it counts in (itself, its parent, its parent's parent, up
-- to the statement's total), from the seed report_lines: a line's amount is the sum of the
-- accounts of all lines below it.
with recursive

report_lines as (
    select * from {{ ref('report_lines') }}
),

tree (ancestor_code, line_code, depth) as (
    select
        line_code,
        line_code,
        0
    from report_lines
    union all
    select
        parents.parent_code,
        tree.line_code,
        tree.depth + 1
    from tree
    inner join report_lines as parents
        on tree.ancestor_code = parents.line_code
    where parents.parent_code is not null
),

final as (
    select
        tree.ancestor_code,
        tree.line_code,
        tree.depth,
        -- The statement's top: Totaal activa / Totaal passiva, or the result.
        last(tree.ancestor_code order by tree.depth) over (partition by tree.line_code)
            as top_code
    from tree
)

select * from final
