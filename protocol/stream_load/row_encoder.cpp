// row_encoder is header-only; this unit keeps the one-component-one-file-set layout.
#include "protocol/stream_load/row_encoder.h"
