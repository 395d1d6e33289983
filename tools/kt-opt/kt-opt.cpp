// kt-opt: parses, verifies and transforms kt modules; the driver of the lit
// tests. Only the dialects and passes kt uses are registered, which keeps
// the binary and its link time small.
//
//   kt-opt model.mlir --kt-annotate-costs
//   kt-opt model.mlir --kt-annotate-costs --kt-place-ops="vram=14GiB ctx=8192"
//   kt-opt --help
#include "compiler/Transforms/Passes.h"
#include "dialects/kt/IR/KtOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<kt::KtDialect, mlir::func::FuncDialect>();
  kt::registerKtPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, 
                        "kt-opt: parse, verify and transform kt dialect modules\n\n"
                        "examples:\n"
                        "  kt-opt model.mlir --kt-annotate-costs\n"
                        "  kt-opt model.mlir --kt-annotate-costs "
                        "--kt-place-ops=\"vram=14GiB ctx=8192\"\n"
                        "  kt-opt invalid.mlir --split-input-file --verify-diagnostics\n", registry));
}
