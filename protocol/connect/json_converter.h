#pragma once
// Kafka Connect's JsonConverter (schemas.enable true/false) and StringConverter, turning
// one record value into one StarRocks row. Plain code: no actors, no I/O.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "conf/connector_config.h"
#include "protocol/connect/time_zone.h"

namespace starpipe::connect {

enum class convert_status { row, skip, error };

// Renders a Connect value (schema + payload) as a StarRocks JSON row. Logical types become
// the text StarRocks parses: Decimal -> exact number, Date -> "YYYY-MM-DD",
// Time -> "HH:MM:SS.fff", Timestamp -> "YYYY-MM-DD HH:MM:SS.fff" (UTC).
// Throws std::runtime_error with the Connect error text on invalid data.
// Debezium semantic types are rendered too: io.debezium.time.* as dates, times and
// datetimes (zoned ones shifted to `zone`, UTC when null), VariableScaleDecimal as an exact
// number, Json as the JSON it carries, Bits as an integer; nested structs and maps become
// JSON text (StarRocks has no nested row), arrays stay arrays.
// One schema_plan compiled for this call (schema_plan.h; the pipeline keeps its plans instead).
nlohmann::ordered_json render_with_schema(const nlohmann::ordered_json& schema, const nlohmann::ordered_json& payload,
                                          const time_zone* zone = nullptr);

// Decoding helpers shared with transforms and tests.
std::string base64_decode(std::string_view in, bool& ok);
std::string unscaled_to_decimal(const std::string& big_endian_twos_complement, int scale);
std::string days_to_date(int64_t days);
std::string millis_to_datetime(int64_t epoch_ms);
std::string millis_to_time(int64_t ms_of_day);
// Epoch (or time-of-day) in units of 10^-digits seconds -> text with trimmed fraction.
std::string units_to_datetime(int64_t value, int digits);
std::string units_to_time(int64_t value, int digits);
// ISO-8601 with zone (Debezium ZonedTimestamp) -> "YYYY-MM-DD HH:MM:SS[.f]" in the given zone.
std::optional<std::string> zoned_to_datetime(const std::string& iso, const time_zone* zone);

class schema_cache; // schema_cache.h

class record_converter {
public:
  // zone: where zoned timestamps of schema'd values are rendered (UTC when null).
  record_converter(conf::converter_spec value, conf::load_format format, const time_zone* zone = nullptr);
  ~record_converter();

  // Appends the row for one record value to `out`. A null value (tombstone) is skipped.
  // On error `out` is left as it was and `error` says why.
  convert_status convert(const char* data, size_t len, std::string& out, std::string& error) const;
  // Its schema cache (null without envelopes), for tests.
  const schema_cache* schemas() const { return schemas_.get(); }

private:
  convert_status json_row(std::string_view text, std::string& out, std::string& error) const;
  conf::converter_spec spec_;
  // JsonConverter with schemas.enable (values are envelopes): their schemas compiled once
  // (schemas.cache.size). This converter's own, like the JsonConverter's: a record_converter
  // belongs to one record stage, never shared by threads.
  std::unique_ptr<schema_cache> schemas_;
  conf::load_format format_;
  const time_zone* zone_;
};

} // namespace starpipe::connect
