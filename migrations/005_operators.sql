-- Operators: the accounts of the admin page and admin routes (docs/ARCHITECTURE.md §5, "Operators").
-- A table of their own, not a role on buyers: a buyer's sign-up can never make an operator, and an
-- operator's name does not take a buyer's. Passwords are hashed like buyers' (scrypt, the hash names
-- its parameters). The first admin is created with ADMIN_TOKEN, the break-glass credential.
CREATE TABLE IF NOT EXISTS operators (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username      VARCHAR(32)     NOT NULL,
  password_hash VARCHAR(255)    NOT NULL,
  role          ENUM('admin', 'viewer') NOT NULL,
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_operators_username (username)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every admin write, who did it and how it ended. Written in the same transaction as the change when
-- the change is in MySQL (a product created, restocked, archived or changed; an operator created or
-- given another role), so the log never lacks a change that happened nor shows one that did not.
CREATE TABLE IF NOT EXISTS audit_log (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  actor       VARCHAR(64)     NOT NULL,
  actor_role  ENUM('admin', 'viewer') NOT NULL,
  action      VARCHAR(40)     NOT NULL,
  product_id  BIGINT UNSIGNED NULL,
  operator_id BIGINT UNSIGNED NULL,
  detail      VARCHAR(1000)   NULL,
  outcome     ENUM('ok', 'refused', 'failed') NOT NULL,
  code        VARCHAR(40)     NULL,
  request_id  VARCHAR(64)     NULL,
  created_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_audit_log_product (product_id, id),
  KEY idx_audit_log_actor (actor, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
