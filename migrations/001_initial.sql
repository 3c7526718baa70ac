-- The schema as it stood before versioned migrations. CREATE TABLE IF NOT EXISTS, so a database made
-- by the old init.sql takes this migration as already applied (its tables stay as they are).

CREATE TABLE IF NOT EXISTS products (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name           VARCHAR(200)    NOT NULL,
  price          INT UNSIGNED    NOT NULL DEFAULT 0,          -- integer cents
  stock          INT UNSIGNED    NOT NULL,                    -- units not yet sold in SQL terms (I1: never below 0)
  image_url      VARCHAR(2048)   NULL,
  per_user_limit INT UNSIGNED    NULL,
  status         ENUM('active', 'archived') NOT NULL DEFAULT 'active',
  sale_starts_at DATETIME(3)     NULL,                        -- UTC; NULL: on sale from creation
  sale_ends_at   DATETIME(3)     NULL,                        -- UTC; NULL: until sold out or archived
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

-- Buyer accounts, owned by the catalog-service. `password_hash` is a self-describing scrypt
-- string (`scrypt$N$r$p$salt$hash`, base64url), so the cost can be raised later without a migration.
-- The unique index uses the table's case-insensitive collation: `Alice` and `alice` are one name.
CREATE TABLE IF NOT EXISTS buyers (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username      VARCHAR(32)     NOT NULL,
  password_hash VARCHAR(255)    NOT NULL,
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_buyers_username (username)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Refresh tokens: only their SHA-256 is stored (a leaked table holds no usable token). A refresh
-- revokes the row it used and inserts the next one (rotation, single use); logout and a password
-- change revoke. In MySQL rather than Redis: a revocation must not be lost by a Redis failover
-- (asynchronous replication), and refreshes are rare (one per buyer per ~10 minutes), off the hot path.
CREATE TABLE IF NOT EXISTS buyer_sessions (
  token_hash  CHAR(64)        NOT NULL,
  buyer_id    BIGINT UNSIGNED NOT NULL,
  expires_at  DATETIME(3)     NOT NULL,
  revoked_at  DATETIME(3)     NULL,
  created_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (token_hash),
  KEY idx_buyer_sessions_buyer (buyer_id, revoked_at),
  CONSTRAINT fk_buyer_sessions_buyer FOREIGN KEY (buyer_id) REFERENCES buyers (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = ascii COLLATE = ascii_bin;
