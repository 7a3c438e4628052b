'use strict';
// The wire contract, loaded at start-up straight from the repository's .proto files: no
// generated code to keep in step. Messages are plain objects with lowerCamelCase fields
// (`contentHash`, `assetKeys`), as in protobuf's JSON mapping.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '../../protos');

const packageDefinition = protoLoader.loadSync(
  ['weir/v1/code_location.proto', 'weir/v1/reporting.proto'],
  {
    includeDirs: [PROTO_ROOT], // google/protobuf/*.proto come bundled with protobufjs
    longs: String, // uint64 sequences arrive as decimal strings, never as lossy numbers
    enums: String, // enum values by full name, e.g. 'RUN_EVENT_TYPE_STEP_START'
    defaults: true, // absent fields read as their zero value ('', [], false)
    oneofs: true, // a oneof's set case is named too, e.g. value.value === 'int'
  },
);
const weir = grpc.loadPackageDefinition(packageDefinition).weir.v1;

module.exports = {
  grpc,
  CodeLocationService: weir.CodeLocationService.service,
  RunReportingClient: weir.RunReportingService,
};
