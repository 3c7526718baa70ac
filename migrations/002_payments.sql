-- Payment holds: a priced product's accepted orders wait for payment until `pay_by`, then are paid or
-- expire (docs/ARCHITECTURE.md §8). The payment-service owns `payments` and `payment_events`.

-- How long a buyer has to pay for an accepted order of this product (seconds); unused at price 0.
ALTER TABLE products ADD COLUMN payment_window_seconds INT UNSIGNED NOT NULL DEFAULT 600 AFTER per_user_limit;

ALTER TABLE orders
  MODIFY COLUMN status ENUM('confirmed', 'failed', 'cancelled', 'awaiting_payment', 'paid', 'expired') NOT NULL,
  ADD COLUMN amount     BIGINT UNSIGNED NULL AFTER quantity,  -- minor units (price × quantity); NULL for free orders
  ADD COLUMN currency   CHAR(3)         NULL AFTER amount,    -- lower-case ISO 4217, as Stripe spells it
  ADD COLUMN pay_by     DATETIME(3)     NULL AFTER currency,  -- UTC; set while and after the order awaited payment
  ADD COLUMN paid_at    DATETIME(3)     NULL AFTER pay_by,
  ADD COLUMN payment_id VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NULL AFTER paid_at,  -- the payment that paid it
  -- The expiry scan: awaiting orders by deadline, without a table scan.
  ADD KEY idx_orders_pay_by (status, pay_by),
  -- Refunds of withdrawn paid orders: cancelled orders that carry a payment.
  ADD KEY idx_orders_payment (status, payment_id);

-- One row per payment attempt at the provider (a Stripe PaymentIntent). `status` follows the
-- provider's events; `notified_at` is set once `order.paid` is in Kafka (an outbox: a row succeeded
-- but not notified is published again by the payment worker).
CREATE TABLE IF NOT EXISTS payments (
  id            VARCHAR(64)     NOT NULL,                    -- the provider's id (pi_…)
  order_id      CHAR(26)        NOT NULL,
  provider      VARCHAR(16)     NOT NULL,
  amount        BIGINT UNSIGNED NOT NULL,                    -- minor units, the order's amount
  currency      CHAR(3)         NOT NULL,
  status        ENUM('requires_payment', 'processing', 'succeeded', 'declined', 'paid', 'refund_pending', 'refunded', 'flagged') NOT NULL,
  client_secret VARCHAR(255)    NULL,
  reason        VARCHAR(255)    NULL,                        -- why declined, flagged or refunded
  refund_id     VARCHAR(64)     NULL,
  notified_at   DATETIME(3)     NULL,
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_payments_order (order_id, created_at),
  KEY idx_payments_status (status, updated_at)
) ENGINE = InnoDB DEFAULT CHARSET = ascii COLLATE = ascii_bin;

-- Every provider event applied, by its id: a redelivery is recognised and changes nothing (I7).
CREATE TABLE IF NOT EXISTS payment_events (
  id           VARCHAR(64)  NOT NULL,                        -- the provider's event id (evt_…)
  type         VARCHAR(64)  NOT NULL,
  payment_id   VARCHAR(64)  NULL,
  payload_hash CHAR(64)     NOT NULL,                        -- SHA-256 of the signed body: the same id with another body is refused
  received_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_payment_events_payment (payment_id)
) ENGINE = InnoDB DEFAULT CHARSET = ascii COLLATE = ascii_bin;
