-- The table of the StarRocks Kafka connector documentation's example.
CREATE DATABASE example_db;
USE example_db;
CREATE TABLE test_tbl (id INT, city STRING);
