-- The price before the sale, shown crossed out beside the sale price; NULL when the product has none.
ALTER TABLE products ADD COLUMN original_price INT UNSIGNED NULL AFTER price;
