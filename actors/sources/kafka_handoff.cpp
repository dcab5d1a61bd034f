// Partitions assigned and revoked (librdkafka's rebalance callback): a record stage per
// assigned partition; before a partition goes, its stage hands on all it got, the supervisor
// loads what is buffered and the offset is committed while this member still owns it. Under
// exactly-once the same moments run the exactly_once_driver's steps over the group's offsets.
#include "actors/pipeline/record_stage.h"
#include "actors/sources/kafka_consumer_state.h"
#include "common/log.h"

namespace starpipe::sources::kafka_steps {

namespace {

std::vector<topic_partition> to_tps(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}


std::string tps_text(const std::vector<topic_partition>& tps) {
  std::string s;
  for (const auto& tp : tps) s += (s.empty() ? "" : ",") + tp.to_string();
  return s;
}

std::vector<stream_id> streams_of(const std::vector<topic_partition>& tps) {
  std::vector<stream_id> out;
  for (const auto& tp : tps) out.push_back(kafka::stream_of(tp));
  return out;
}

std::vector<topic_partition> partitions_of(const kafka_consumer_state& st) {
  std::vector<topic_partition> out;
  for (const auto& [tp, stage] : st.sources) out.push_back(tp);
  return out;
}

// Those of `tps` the task owns, with their record stages.
stage_list stages_of(const kafka_consumer_state& st, const std::vector<topic_partition>& tps) {
  stage_list out;
  for (const auto& tp : tps)
    if (auto it = st.sources.find(tp); it != st.sources.end()) out.emplace_back(kafka::stream_of(tp), it->second);
  return out;
}

stage_list stages_of(const kafka_consumer_state& st) { return stages_of(st, partitions_of(st)); }

std::vector<stream_id> owned(const kafka_consumer_state& st) { return streams_of(partitions_of(st)); }

void drop_sources(self_ptr self, const std::vector<topic_partition>& tps) {
  auto& st = self->state;
  for (const auto& tp : tps) {
    auto it = st.sources.find(tp);
    if (it == st.sources.end()) continue;
    self->unlink_from(it->second);
    self->send_exit(it->second, caf::exit_reason::user_shutdown);
    st.sources.erase(it);
    st.next_seq.erase(tp); // a partition that comes back is a new stream for the tracker, from seq 0
  }
  if (st.positions) st.positions->forget(tps);
}

// Before a partition goes: its source hands on all it got, the supervisor loads what is
// buffered, and the partition's offset is committed while we still own it.
void drain(self_ptr self, const std::vector<topic_partition>& tps) {
  auto& st = self->state;
  if (st.exactly_once) {
    exactly_once_checkpoint(self, true);
    self->send(st.supervisor, forget_atom::value, streams_of(tps));
    drop_sources(self, tps);
    return;
  }
  barrier_stages(self->system(), stages_of(st, tps));
  caf::scoped_actor blocker{self->system()};
  blocker->request(st.supervisor, st.settings.drain_timeout, handoff_atom::value, streams_of(tps))
      .receive(
          [&](const position_map& positions) {
            auto offsets = kafka::offsets_after(positions);
            if (!commit(st, offsets, false))
              for (const auto& [tp, off] : offsets) st.loaded_not_committed[tp] = off;
          },
               [&](caf::error& e) {
                 LOG_WARN("consumer", st.id << " could not load buffered rows of " << tps_text(tps)
                                              << " before giving them up (" << self->system().render(e)
                                              << "); their new owner resumes from the last commit");
               });
  drop_sources(self, tps);
}

} // namespace

void barrier(self_ptr self) { barrier_stages(self->system(), stages_of(self->state)); }

void exactly_once_checkpoint(self_ptr self, bool revoking) {
  auto& st = self->state;
  st.unprepared_bytes = 0;
  st.exactly_once->checkpoint(*st.positions, stages_of(st), revoking);
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<self_ptr>(opaque);
  auto& st = self->state;
  auto tps = to_tps(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    LOG_INFO("consumer", st.id << " assigned " << (tps.empty() ? "no partitions" : tps_text(tps)));
    st.awaiting_first_records = !tps.empty();
    for (const auto& tp : tps) {
      if (st.sources.count(tp)) continue;
      pipeline::record_stage_settings ps;
      ps.connector = st.settings.connector;
      ps.owner = st.settings.index;
      ps.dead_letters = st.settings.dead_letters;
      auto src = pipeline::spawn_record_stage(self->system(), ps, st.supervisor);
      self->link_to(src);
      st.sources[tp] = src;
    }
    // Exactly-once: settle what the new partitions' records name, then a fresh writer slot,
    // recorded on every partition before any row is read.
    if (st.exactly_once) st.exactly_once->take(*st.positions, streams_of(tps), owned(st));
    offset_map resume_at;
    for (int i = 0; i < partitions->cnt && !st.exactly_once; ++i) {
      auto it = st.loaded_not_committed.find({partitions->elems[i].topic, partitions->elems[i].partition});
      if (it == st.loaded_not_committed.end()) continue;
      partitions->elems[i].offset = it->second;
      resume_at.insert(*it);
    }
    st.loaded_not_committed.clear(); // partitions that went elsewhere are their new owner's now
    rd_kafka_error_t* error = nullptr;
    if (st.cooperative)
      error = rd_kafka_incremental_assign(rk, partitions);
    else
      rd_kafka_assign(rk, partitions);
    if (!resume_at.empty()) {
      std::string text;
      for (const auto& [tp, off] : resume_at) text += (text.empty() ? "" : ",") + tp.to_string() + "@" + std::to_string(off);
      LOG_INFO("consumer", st.id << " resumes after rows it loaded before the rebalance: " << text);
      commit(st, resume_at, false, false);
    }
    if (error) {
      LOG_ERROR("consumer", st.id << " assign failed: " << rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    if (st.paused && partitions->cnt > 0) rd_kafka_pause_partitions(rk, partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    LOG_INFO("consumer", st.id << " revoking " << (tps.empty() ? "no partitions" : tps_text(tps)));
    if (!tps.empty()) drain(self, tps);
    if (st.exactly_once) st.exactly_once->rotate(*st.positions, owned(st));
    if (st.cooperative) {
      if (auto* error = rd_kafka_incremental_unassign(rk, partitions)) rd_kafka_error_destroy(error);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  } else {
    LOG_ERROR("consumer", st.id << " rebalance error: " << rd_kafka_err2str(err));
    rd_kafka_assign(rk, nullptr);
  }
  report_lag(self); // the partitions it reads changed: /metrics shows it now, not at the next report
}


} // namespace starpipe::sources::kafka_steps
