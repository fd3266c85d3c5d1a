fields jsonParse(@message) as j, jsonStringify(jsonParse(@message)), jsonArraySize(arr), jsonArrayContains(arr, "x")
