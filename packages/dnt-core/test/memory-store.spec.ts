import { memoryStore } from '../src/index.js'
import { storeSuite } from '../src/testing/index.js'

storeSuite('memoryStore', {
  setup: () => {
    const store = memoryStore()
    return () => store
  }
})
