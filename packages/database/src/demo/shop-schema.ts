import type { DatabaseKind } from "../database-config.js";

/**
 * A small shop with the shapes real schemas have: identity and serial keys, a composite key,
 * a foreign-key chain, CHECKs (including one across columns), an enum, arrays/JSON, and a
 * generated column. Used by the embedded demo and the tests.
 */
export const shopSchema: Record<DatabaseKind, string[]> = {
  postgres: [
    "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled')",
    `CREATE TABLE customers (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       email varchar(120) NOT NULL UNIQUE,
       name text NOT NULL CHECK (char_length(name) >= 2),
       created_at timestamptz NOT NULL DEFAULT now(),
       vip boolean NOT NULL DEFAULT false)`,
    `CREATE TABLE products (
       sku varchar(20) PRIMARY KEY,
       title text NOT NULL,
       price numeric(10,2) NOT NULL CHECK (price > 0),
       stock integer NOT NULL CHECK (stock BETWEEN 0 AND 10000),
       tags text[],
       attributes jsonb)`,
    `CREATE TABLE orders (
       id serial PRIMARY KEY,
       customer_id bigint NOT NULL REFERENCES customers(id),
       status order_status NOT NULL DEFAULT 'pending',
       ordered_at timestamptz NOT NULL,
       shipped_at timestamptz,
       CHECK (shipped_at > ordered_at))`,
    `CREATE TABLE order_items (
       order_id integer NOT NULL REFERENCES orders(id),
       line_no smallint NOT NULL CHECK (line_no > 0),
       sku varchar(20) NOT NULL REFERENCES products(sku),
       quantity integer NOT NULL CHECK (quantity > 0 AND quantity <= 100),
       unit_price numeric(10,2) NOT NULL,
       total numeric(12,2) GENERATED ALWAYS AS (quantity * unit_price) STORED,
       PRIMARY KEY (order_id, line_no))`,
    `INSERT INTO customers (email, name, vip, created_at)
       SELECT 'customer' || n || '@example.com', 'Customer ' || n, n % 10 = 0, timestamptz '2025-01-01' + n * interval '1 hour'
         FROM generate_series(1, 200) n`,
    `INSERT INTO products (sku, title, price, stock, tags, attributes)
       SELECT 'SKU-' || n, 'Product ' || n, (n * 1.25)::numeric(10,2), n * 3, ARRAY['tag' || (n % 5)], jsonb_build_object('color', 'blue', 'n', n)
         FROM generate_series(1, 50) n`,
    `INSERT INTO orders (customer_id, status, ordered_at, shipped_at)
       SELECT 1 + n % 200, (ARRAY['pending', 'paid', 'shipped'])[1 + n % 3]::order_status,
              timestamptz '2025-06-01' + n * interval '1 hour', CASE WHEN n % 3 = 2 THEN timestamptz '2025-06-02' + n * interval '1 hour' END
         FROM generate_series(1, 500) n`,
    `INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price)
       SELECT 1 + n % 500, 1 + n / 500, 'SKU-' || (1 + n % 50), 1 + n % 7, (1 + n % 50) * 1.25 FROM generate_series(0, 1499) n`,
    "ANALYZE",
  ],
  mysql: [
    `CREATE TABLE customers (
       id bigint AUTO_INCREMENT PRIMARY KEY,
       email varchar(120) NOT NULL UNIQUE,
       name varchar(200) NOT NULL CHECK (char_length(name) >= 2),
       created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
       vip tinyint(1) NOT NULL DEFAULT 0)`,
    `CREATE TABLE products (
       sku varchar(20) PRIMARY KEY,
       title varchar(200) NOT NULL,
       price decimal(10,2) NOT NULL CHECK (price > 0),
       stock int NOT NULL CHECK (stock BETWEEN 0 AND 10000),
       attributes json)`,
    `CREATE TABLE orders (
       id int AUTO_INCREMENT PRIMARY KEY,
       customer_id bigint NOT NULL,
       status enum('pending', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'pending',
       ordered_at datetime NOT NULL,
       shipped_at datetime NULL,
       CONSTRAINT shipped_after_ordered CHECK (shipped_at > ordered_at),
       FOREIGN KEY (customer_id) REFERENCES customers(id))`,
    `CREATE TABLE order_items (
       order_id int NOT NULL,
       line_no smallint NOT NULL CHECK (line_no > 0),
       sku varchar(20) NOT NULL,
       quantity int NOT NULL CHECK (quantity > 0 AND quantity <= 100),
       unit_price decimal(10,2) NOT NULL,
       total decimal(12,2) AS (quantity * unit_price) STORED,
       PRIMARY KEY (order_id, line_no),
       FOREIGN KEY (order_id) REFERENCES orders(id),
       FOREIGN KEY (sku) REFERENCES products(sku))`,
    `INSERT INTO customers (email, name, vip, created_at)
       SELECT CONCAT('customer', seq, '@example.com'), CONCAT('Customer ', seq), seq % 10 = 0, '2025-01-01' + INTERVAL seq HOUR FROM seq_1_to_200`,
    `INSERT INTO products (sku, title, price, stock, attributes)
       SELECT CONCAT('SKU-', seq), CONCAT('Product ', seq), seq * 1.25, seq * 3, JSON_OBJECT('color', 'blue', 'n', seq) FROM seq_1_to_50`,
    `INSERT INTO orders (customer_id, status, ordered_at, shipped_at)
       SELECT 1 + seq % 200, ELT(1 + seq % 3, 'pending', 'paid', 'shipped'), '2025-06-01' + INTERVAL seq HOUR,
              IF(seq % 3 = 2, '2025-06-02' + INTERVAL seq HOUR, NULL) FROM seq_1_to_500`,
    `INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price)
       SELECT 1 + seq % 500, 1 + seq DIV 500, CONCAT('SKU-', 1 + seq % 50), 1 + seq % 7, (1 + seq % 50) * 1.25 FROM seq_0_to_1499`,
    "ANALYZE TABLE customers, products, orders, order_items",
  ],
};
