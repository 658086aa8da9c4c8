-- The group's profit and loss account as a statement per period, from the consolidated trial
-- balance: the administrations' results added up without intercompany revenue and costs (seed
-- intercompany_accounts); what of those does not cancel is in 'Niet ingedeeld' (ELIM_PL).
{{ profit_and_loss_statement('fct_consolidated_trial_balance', []) }}
