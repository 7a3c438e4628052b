{{ config(severity='warn') }}
-- Warns (never fails the build) when an order is under 5.
select * from {{ ref('orders') }} where amount < 5
