#include "actors/transforms/transform_stage.h"

#include "actors/messages.h"

namespace starpipe::transform_actors {

caf::actor spawn_transform_stage(caf::actor_system& sys, std::shared_ptr<const transforms::chain> chain) {
  return sys.spawn([chain](caf::event_based_actor*) -> caf::behavior {
    return {
        [chain](transform_atom, std::vector<connect::connect_record>& records) {
          std::vector<stage_result> out;
          out.reserve(records.size());
          for (auto& r : records) {
            stage_result res;
            res.offset = r.offset;
            try {
              res.record = chain->apply(std::move(r));
            } catch (const std::exception& e) {
              res.error = e.what();
            }
            out.push_back(std::move(res));
          }
          return out;
        },
    };
  });
}

} // namespace starpipe::transform_actors
