{
  "targets": [
    {
      "target_name": "episteme_kernels",
      "sources": ["gemm.cc", "conv.cc", "napi_args.cc", "conv_addon.cc", "addon.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
