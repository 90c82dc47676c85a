// fft.js, imported only through this file: the build (scripts/bundle-vendor.mjs) replaces its compiled copy,
// dist/vendor/fft.js, by fft.js bundled as an ES module, so that rnnkit/web loads it from a static server.
import FFT from 'fft.js';

export default FFT;
