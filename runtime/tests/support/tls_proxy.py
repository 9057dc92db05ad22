"""TLS in front of a plain Kafka broker, for runtime/tests/kafka.rs: Tansu 0.6 cannot
serve TLS itself (its CLI refuses --cert with --key), so clients speak TLS to this
proxy and it forwards their bytes to the broker's plain port on loopback.

    tls_proxy.py LISTEN_PORT BROKER_PORT CERT KEY [CLIENT_CA]

With CLIENT_CA a client must present a certificate that authority signed."""
import asyncio
import ssl
import sys


async def pump(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def forward(client_reader, client_writer, broker_port):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", broker_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, writer), pump(reader, client_writer))


async def main():
    listen, broker_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if len(sys.argv) > 5:
        context.load_verify_locations(sys.argv[5])
        context.verify_mode = ssl.CERT_REQUIRED
    server = await asyncio.start_server(
        lambda r, w: forward(r, w, broker_port), "127.0.0.1", listen, ssl=context
    )
    async with server:
        await server.serve_forever()


asyncio.run(main())
