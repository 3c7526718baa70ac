-- The waiting room (docs/ARCHITECTURE.md §10): opt-in per product, off for every existing row.
ALTER TABLE products
  ADD COLUMN waiting_room TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN waiting_room_opens_seconds INT UNSIGNED NOT NULL DEFAULT 3600;
