// Lesson 05's Node.js original: the talk's "NodeJS Reverse Proxy" slide.
// Changes from the slide, only what stops it from running or from being started by our tools:
//   - the `hosts` array gets its closing `];`, and `}):` after socket.on('end') is `});`;
//   - the backends can come from --backend HOST:PORT (repeatable); without it, the slide's
//     eight (127.0.0.1, ports 9999 down to 9992);
//   - the port comes from --port (default the slide's 8000), the address from --host, and it
//     prints the ready line `listening on HOST:PORT` once listening;
//   - its two console.log lines are console.error: stdout carries only the ready line.
// Kept as the talk wrote it: the counter moves before it is used (the first client goes to the
// second backend); a backend that refuses has no 'error' handler; a client's end destroys the
// backend socket at once (no half-close).
var net = require("net");
var argv = require("minimist")(process.argv.slice(2), { string: ["host", "backend"] });
var host = argv.host || "127.0.0.1";
var port = argv.port === undefined ? 8000 : Number(argv.port);
var hosts = [
    { port:9999, host:'127.0.0.1'},
    { port:9998, host:'127.0.0.1'},
    { port:9997, host:'127.0.0.1'},
    { port:9996, host:'127.0.0.1'},
    { port:9995, host:'127.0.0.1'},
    { port:9994, host:'127.0.0.1'},
    { port:9993, host:'127.0.0.1'},
    { port:9992, host:'127.0.0.1'}
];
if (argv.backend !== undefined) {
    hosts = [].concat(argv.backend).map(function (backend) {
        var colon = backend.lastIndexOf(":");
        return { port: Number(backend.slice(colon + 1)), host: backend.slice(0, colon) };
    });
}
var counter = 0;
net.createServer(function(socket){
    counter = (counter+1)%hosts.length;
    console.error("forwarding connection to : ", hosts[counter]);
    var hostSocket = net.connect(hosts[counter],function(){
        socket.pipe(hostSocket).pipe(socket);
    });
    socket.on('end',function(){
        console.error("destroying socket");
        hostSocket.destroy();
    });
}).listen(port, host, function () {
    console.log("listening on " + host + ":" + this.address().port);
});
