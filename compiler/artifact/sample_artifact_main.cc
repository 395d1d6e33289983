// kt_artifact_sample OUT.kta [--small]: writes the sample artifact (fuzz
// seeds, tool tests).
#include <cstdio>
#include <cstring>

#include "compiler/artifact/sample_artifact.h"

int main(int argc, char** argv) {
  const bool help = argc >= 2 && std::strcmp(argv[1], "--help") == 0;
  const bool small = argc == 3 && std::strcmp(argv[2], "--small") == 0;
  if (help || argc < 2 || argc > 3 || (argc == 3 && !small)) {
    std::fprintf(help ? stdout : stderr,
                 "usage: kt_artifact_sample OUT.kta [--small]\n"
                 "Writes a synthetic artifact with every manifest field set (--small: under 20 KB).\n"
                 "example: kt_artifact_sample /tmp/sample.kta && ktc inspect /tmp/sample.kta\n");
    return help ? 0 : 2;
  }
  kt::StatusOr<kt::artifact::WriteResult> r =
      kt::artifact::WriteArtifact(argv[1], kt::artifact::SampleContents(small));
  if (!r.ok()) {
    std::fprintf(stderr, "kt_artifact_sample: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %llu bytes\n", argv[1], static_cast<unsigned long long>(r->header.file_size));
  return 0;
}
