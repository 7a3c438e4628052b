// The Node image's health check: grpc.health.v1.Health/Check on HOST:PORT, exit 0 when
// SERVING. Uses the location's own @grpc/grpc-js and the health.proto that
// grpc-health-check ships, so the image needs nothing more.
//   node healthcheck.js 127.0.0.1:4200
'use strict';

const path = require('node:path');
const modules = path.join(process.cwd(), 'node_modules');
const grpc = require(path.join(modules, '@grpc/grpc-js'));
const protoLoader = require(path.join(modules, '@grpc/proto-loader'));

const address = process.argv[2];
if (!address) {
  console.error('usage: node healthcheck.js HOST:PORT');
  process.exit(2);
}
const proto = path.join(modules, 'grpc-health-check/proto/health/v1/health.proto');
const definition = protoLoader.loadSync(proto, { enums: String });
const health = grpc.loadPackageDefinition(definition).grpc.health.v1;
const client = new health.Health(address, grpc.credentials.createInsecure());
client.check({ service: '' }, { deadline: Date.now() + 2000 }, (err, reply) => {
  if (err) {
    console.error(`${address}: ${err.message}`);
    process.exit(1);
  }
  console.log(`${address}: ${reply.status}`);
  process.exit(reply.status === 'SERVING' ? 0 : 1);
});
