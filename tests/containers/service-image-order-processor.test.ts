// order-processor's image: its Dockerfile's steps replayed in a clean copy, started, healthy, stopped (service-image.ts).
import { serviceImageTest } from './service-image.ts'

serviceImageTest('order-processor')
