#pragma once
// A connector_admin that records what reached it: the REST tests' stand-in for the cluster.
#include <map>
#include <string>
#include <vector>

#include "protocol/rest/connect_api.h"

namespace starpipe {

struct recording_admin : rest::connector_admin {
  bool is_ready = true;
  std::vector<std::string> calls;
  std::map<std::string, std::string> last_config;
  rest::admin_result next{200, "", ""};
  bool ready() const override { return is_ready; }
  rest::admin_result put_config(const std::string& name, const std::map<std::string, std::string>& config,
                                bool create_only, std::optional<connect::target_state> initial) override {
    calls.push_back("put " + name + (create_only ? " create" : "") +
                    (initial ? std::string(" ") + connect::to_string(*initial) : ""));
    last_config = config;
    return next.status == 200 && create_only ? rest::admin_result{201, "", ""} : next;
  }
  rest::admin_result remove(const std::string& name) override {
    calls.push_back("delete " + name);
    return next;
  }
  rest::admin_result set_target_state(const std::string& name, connect::target_state s) override {
    calls.push_back(std::string("state ") + name + " " + connect::to_string(s));
    return next;
  }
  rest::admin_result restart(const connect::restart_request& r) override {
    calls.push_back("restart " + r.connector + (r.include_tasks ? " tasks" : "") + (r.only_failed ? " failed" : "") +
                    (r.worker_id.empty() ? "" : " on " + r.worker_id));
    return next;
  }
  rest::admin_result offsets(const std::string& name) override {
    calls.push_back("offsets " + name);
    return {200, "", R"({"offsets":[]})"};
  }
};

} // namespace starpipe
