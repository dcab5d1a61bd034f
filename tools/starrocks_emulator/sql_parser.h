#pragma once
// The DDL subset the StarRocks documentation's examples use: CREATE DATABASE [IF NOT EXISTS],
// USE, CREATE TABLE [IF NOT EXISTS] with column types, NULL/NOT NULL, DEFAULT, COMMENT,
// DUPLICATE/PRIMARY/UNIQUE/AGGREGATE KEY, and ENGINE/PARTITION/DISTRIBUTED/PROPERTIES
// clauses (accepted), DROP TABLE, TRUNCATE TABLE.
#include <string>

#include "tools/starrocks_emulator/catalog.h"

namespace emulator {

// Runs every statement of `sql` in order. Returns "" or the first error.
std::string execute_sql(catalog& cat, const std::string& sql, std::string& current_db);

} // namespace emulator
