-- The profit and loss account as a statement, per administration and period: a row per line
-- of the statement (seed report_lines: Netto-omzet, Kostprijs van de omzet, Brutomarge, …,
-- Resultaat), each the sum of the accounts below it, and a row per account under its line.
-- Amounts are presented as result (credit - debit): revenue positive, costs negative, so that
-- the line Resultaat is the period's result; ytd_ amounts run from the start of the year.
{{ profit_and_loss_statement('fct_trial_balance', ['administration_id']) }}
