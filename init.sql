-- Schema for the flash-sale order system. Runs on MySQL 8.4 (containers) and MariaDB 10.11 (make local),
-- and is safe to apply again: every statement is idempotent.

CREATE TABLE IF NOT EXISTS products (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name           VARCHAR(200)    NOT NULL,
  price          INT UNSIGNED    NOT NULL DEFAULT 0,          -- integer cents
  stock          INT UNSIGNED    NOT NULL,                    -- units not yet sold in SQL terms (I1: never below 0)
  image_url      VARCHAR(2048)   NULL,
  per_user_limit INT UNSIGNED    NULL,
  status         ENUM('active', 'archived') NOT NULL DEFAULT 'active',
  created_at     DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at     DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_products_status_name (status, name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The primary key is the gateway's time-ordered order id: a redelivered order.placed inserts nothing (I3).
CREATE TABLE IF NOT EXISTS orders (
  id          CHAR(26)        NOT NULL,
  product_id  BIGINT UNSIGNED NOT NULL,
  user_id     VARCHAR(64)     NULL,
  quantity    INT UNSIGNED    NOT NULL,
  status      ENUM('confirmed', 'failed', 'cancelled') NOT NULL,
  reason      VARCHAR(255)    NULL,
  request_id  VARCHAR(64)     NULL,
  created_at  DATETIME(3)     NOT NULL,
  updated_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_orders_user (user_id, id),
  KEY idx_orders_product (product_id, id),
  KEY idx_orders_status (status, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
