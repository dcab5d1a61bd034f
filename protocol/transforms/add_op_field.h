#pragma once
// com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord: adds `__op` (0 upsert,
// 1 delete) to the row image of a Debezium envelope, so a Primary Key table applies deletes.
// Beyond the Java original it also handles snapshot reads (`r`, as upserts) and schemaless
// envelopes (schemas.enable=false).
#include "protocol/transforms/transform.h"

namespace starpipe::transforms {

std::unique_ptr<transform> make_add_op_field(const transform_spec& spec, const conf::properties& p,
                                             conf::config_errors& errs);

} // namespace starpipe::transforms
