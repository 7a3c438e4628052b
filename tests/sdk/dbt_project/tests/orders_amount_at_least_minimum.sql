-- Fails when an order's amount is below WEIR_DBT_MIN_AMOUNT (0 by default: passes).
select * from {{ ref('orders') }} where amount < {{ env_var('WEIR_DBT_MIN_AMOUNT', '0') }}
