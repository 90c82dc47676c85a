// Registers the engine's N-API exports (configure, simdLevels, measurePeak, activation): see
// engine_addon.cc. Called from addon.cc's module init.
#ifndef RNNKIT_ENGINE_ADDON_H
#define RNNKIT_ENGINE_ADDON_H

#include <napi.h>

namespace rnnkit {
void register_engine_exports(Napi::Env env, Napi::Object exports);
}  // namespace rnnkit

#endif  // RNNKIT_ENGINE_ADDON_H
