{{ config(tags=["daily", "core"], meta={"tier": "gold"}, group="finance") }}
select o.order_id, o.customer, o.status, p.amount_cents / 100.0 as amount
from {{ ref('stg_orders') }} as o
left join {{ source('payments_app', 'raw_payments') }} as p using (order_id)
