// Lesson 04's Node.js original: the talk's "Distributed Chat System" slide.
// Changes from the slide, only what stops it from running today or from being started by our
// tools:
//   - `var sockets = []:` and `createClient():` end in `;`, not `:`;
//   - removed the stray `</pre>`, and added the closing braces the slide lacks (the for loop and
//     the 'message' handler; socket.on('data'); socket.on('close'));
//   - `index0f(socket).1` is `indexOf(socket),1`;
//   - optimist is minimist (optimist's maintained core): `optimist.argv.port` is `argv.port`;
//   - the redis client is v4, whose API changed: createClient takes the server's URL (--redis,
//     default 127.0.0.1:6379) and needs connect(); subscribe takes the listener, which gets
//     (message, channel) instead of on("message", (channel, message));
//   - the channel name comes from --channel (default the slide's "chat channel"), the address
//     from --host, and it prints the ready line `listening on HOST:PORT` once listening.
// Kept as the talk wrote it: it publishes 'data' chunks, not lines; one Redis connection per
// client, never closed; no handler for Redis or socket errors; no retry when Redis goes away.
var argv = require("minimist")(process.argv.slice(2), { string: ["host", "redis", "channel"] });
var host = argv.host || "127.0.0.1";
var port = argv.port === undefined ? 9999 : Number(argv.port);
var redisUrl = "redis://" + (argv.redis || "127.0.0.1:6379");
var channel = argv.channel === undefined ? "chat channel" : argv.channel;

var sockets = [];
var redis = require("redis");
var subClient = redis.createClient({ url: redisUrl });
subClient.connect();
var globalIncr = 0;
subClient.subscribe(channel, function(data, channel) {
  data = JSON.parse(data);
   for(var i=0;i<sockets.length;i++){
       if(sockets[i].userId === data.userId) continue;
       sockets[i].write(data.message);
   }
});
require("net").createServer(function(socket){
   var pubClient = redis.createClient({ url: redisUrl });
   pubClient.connect();
   socket.userId = process.pid.toString()+(globalIncr++)+Math.floor(Math.random()*100000);
   sockets.push(socket);
   socket.write(process.pid + " : welcome to node's tcp chat server\n");
   socket.on('data',function(data){
     var stringifiedMessage = JSON.stringify({"message":data.toString("utf8"),"userId":socket.userId});
    pubClient.publish(channel,stringifiedMessage);
   });
  socket.on('close',function(){
       sockets.splice(sockets.indexOf(socket),1);
  });
}).listen(port, host, function () {
  console.log("listening on " + host + ":" + this.address().port);
});
