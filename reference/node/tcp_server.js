// Lesson 02's Node.js original: the talk's "TCP Server" slide, run as it was written.
// Changes from the slide, all about starting it, none about how it serves:
//   - the port comes from --port (the slide's 9999 is the default), the address from --host,
//     read with minimist (optimist's maintained core);
//   - once listening it prints the workshop's ready line `listening on HOST:PORT` on stdout.
var argv = require("minimist")(process.argv.slice(2), { string: ["host"] });
var host = argv.host || "127.0.0.1";
var port = argv.port === undefined ? 9999 : Number(argv.port);

require("net").createServer(function(socket){
    socket.write("Hello\n");
    socket.end("world\n");
}).listen(port, host, function () {
    console.log("listening on " + host + ":" + this.address().port);
});
