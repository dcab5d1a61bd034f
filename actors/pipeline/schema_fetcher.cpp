#include "actors/pipeline/schema_fetcher.h"

#include "actors/messages.h"

namespace starpipe::pipeline {

caf::actor spawn_schema_fetcher(caf::actor_system& sys, std::shared_ptr<connect::schema_source> source) {
  return sys.spawn<caf::detached>([source](caf::event_based_actor*) -> caf::behavior {
    return {
        [source](schemas_atom, const std::vector<std::string>& ids) {
          std::vector<connect::fetched_schema> answers;
          answers.reserve(ids.size());
          for (const auto& id : ids) answers.push_back(source->fetch(id));
          return answers;
        },
    };
  });
}

} // namespace starpipe::pipeline
