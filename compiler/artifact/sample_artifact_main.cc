// kt_artifact_sample OUT.kta: writes the sample artifact (fuzz seed, tests).
#include <cstdio>
#include <cstring>

#include "compiler/artifact/sample_artifact.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: kt_artifact_sample OUT.kta\n"
                 "Writes a small synthetic artifact with every manifest field set.\n"
                 "example: kt_artifact_sample /tmp/sample.kta && ktc inspect /tmp/sample.kta\n");
    return argc == 2 ? 0 : 2;
  }
  kt::StatusOr<kt::artifact::WriteResult> r = kt::artifact::WriteArtifact(argv[1], kt::artifact::SampleContents());
  if (!r.ok()) {
    std::fprintf(stderr, "kt_artifact_sample: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %llu bytes\n", argv[1], static_cast<unsigned long long>(r->header.file_size));
  return 0;
}
