#pragma once
// io.debezium.transforms.ExtractNewRecordState: a Debezium envelope becomes its row image.
// Options as docs/reference/kafka-connect-compat.md section 5 lists them: delete.tombstone.handling.mode
// (drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone), the legacy
// drop.tombstones / delete.handling.mode, add.fields(.prefix), add.headers(.prefix),
// route.by.field. Schemaless envelopes are unwrapped too (the Java SMT leaves them alone,
// which loaded whole envelopes as NULL rows).
#include "protocol/transforms/transform.h"

namespace starpipe::transforms {

std::unique_ptr<transform> make_extract_new_record_state(const transform_spec& spec, const conf::properties& p,
                                                         conf::config_errors& errs);

} // namespace starpipe::transforms
