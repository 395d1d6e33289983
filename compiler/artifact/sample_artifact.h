// A small, fully populated artifact description: every manifest field set
// to a distinct value, tensors in CPU and GPU segments, a kernel image and
// both plans. Tests write it and compare what the loader returns; the fuzz
// script writes it as a seed (kt_artifact_sample).
#pragma once

#include "compiler/artifact/artifact_writer.h"

namespace kt::artifact {

// `small`: tiny expert tensors, so the whole file stays under 20 KB (fuzz seeds).
ArtifactContents SampleContents(bool small = false);

}  // namespace kt::artifact
