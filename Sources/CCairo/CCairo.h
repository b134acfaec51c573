// cairo 1.16+: image surfaces, paths and text through the "toy" font API, whose faces
// fontconfig resolves (DejaVu Sans on Debian with fonts-dejavu-core).
#include <cairo.h>
