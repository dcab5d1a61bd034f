#pragma once
// A time zone for rendering zoned timestamps: UTC, a fixed offset ("+08:00"), or a name from
// the system's tz database ("Asia/Shanghai", read from /usr/share/zoneinfo), so offsets follow
// the zone's history and daylight saving time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace starpipe::connect {

class time_zone {
public:
  // nullptr and `error` when the name is neither UTC, an offset, nor a known zone.
  static std::shared_ptr<const time_zone> load(const std::string& name, std::string& error,
                                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static std::shared_ptr<const time_zone> utc();

  // Seconds east of UTC in effect at this UTC instant.
  int32_t offset_at(int64_t utc_seconds) const;
  const std::string& name() const { return name_; }

private:
  std::string name_;
  int32_t fixed_offset_ = 0;
  std::vector<int64_t> transitions_; // UTC seconds, ascending
  std::vector<int32_t> offsets_;     // offset in effect from each transition on
  int32_t initial_offset_ = 0;       // before the first transition
};

} // namespace starpipe::connect
