-- The naive app's own tables (bench/naive/README.md): never the product's `products` or `orders`.
-- A surrogate AUTO_INCREMENT key and no unique order reference, as such apps often have: a message
-- applied twice is two rows, and that is what the bench counts as oversold.
CREATE TABLE IF NOT EXISTS bench_naive_products (
  id BIGINT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  stock INT NOT NULL
);

CREATE TABLE IF NOT EXISTS bench_naive_orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  order_ref VARCHAR(64) NOT NULL,
  product_id BIGINT NOT NULL,
  user_id VARCHAR(100) NULL,
  quantity INT NOT NULL,
  inserted_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY bench_naive_orders_product (product_id, inserted_at)
);
