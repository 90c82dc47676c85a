// wavefile, imported only through this file: the build (scripts/bundle-vendor.mjs) replaces its compiled copy,
// dist/vendor/wavefile.js, by wavefile bundled as an ES module, so that rnnkit/web loads it from a static server.
import wavefile from 'wavefile';

export const { WaveFile } = wavefile;
