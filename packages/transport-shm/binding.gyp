{
  "targets": [
    {
      "target_name": "unipc_shm",
      "sources": ["native/addon.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lrt"]
    }
  ]
}
