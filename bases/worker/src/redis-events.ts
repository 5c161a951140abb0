// Publishing job events over Redis with @nestjs/microservices, for API replicas to pick up.
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { JOB_EVENT_PATTERN, redisConnectionOptions } from '@veil/job-queue';
import type { JobEvent } from '@veil/job-queue';

export interface EventPublisher {
  publish(event: JobEvent): Promise<void>;
  close(): Promise<void>;
}

export async function redisEventPublisher(redisUrl: string): Promise<EventPublisher> {
  const client = ClientProxyFactory.create({ transport: Transport.REDIS, options: redisConnectionOptions(redisUrl) });
  await client.connect();
  return {
    publish: async (event) => {
      await lastValueFrom(client.emit(JOB_EVENT_PATTERN, event), { defaultValue: undefined });
    },
    close: async () => {
      await client.close();
    },
  };
}
