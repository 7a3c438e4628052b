select order_id, customer, status from {{ ref('raw_orders') }}
